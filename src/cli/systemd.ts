import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../config/load.ts";
import { IpwardError } from "../core/errors.ts";
import { type CliIo, type Command, parseCommandArgs } from "./io.ts";

const SYSTEMD_OPTIONS = {
  user: { type: "string" },
  install: { type: "boolean" },
  path: { type: "string" },
  "data-dir": { type: "string" },
  config: { type: "string" },
} as const;

export const DEFAULT_UNIT_PATH = "/etc/systemd/system/ipward.service";
const DEFAULT_DATA_DIR = "/var/lib/ipward";
const DEFAULT_CONFIG_PATH = "/etc/ipward/ipward.toml";
/** Ports below this need CAP_NET_BIND_SERVICE. */
const FIRST_UNPRIVILEGED_PORT = 1024;

export interface UnitOptions {
  /** The command that starts ipward: the binary, or the runtime and src/main.ts for a source checkout. */
  command: string[];
  dataDir: string;
  /** Passed as --config when set. */
  configPath: string | null;
  /** A dedicated account; null means DynamicUser=yes. */
  user: string | null;
  /** The port the configuration listens on (public and admin listeners), for the capability decision. */
  ports: number[];
}

/** The hardened unit file for ipward (SPEC §5 `ipward systemd`). */
export function renderUnit({ command, dataDir, configPath, user, ports }: UnitOptions): string {
  const execStart = [...command, "serve", "--data-dir", dataDir, ...(configPath ? ["--config", configPath] : [])].map(quoteArg).join(" ");
  const privilegedPorts = ports.filter((port) => port > 0 && port < FIRST_UNPRIVILEGED_PORT);
  const stateDirectory = dataDir.startsWith("/var/lib/") ? dataDir.slice("/var/lib/".length) : null;
  const lines = [
    "[Unit]",
    "Description=ipward IP tracking and protection",
    "Documentation=https://github.com/ipward/ipward#run-as-a-service",
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${execStart}`,
    "ExecReload=/bin/kill -HUP $MAINPID",
    "KillSignal=SIGTERM",
    "# SIGTERM drains the request log before exiting; give a large backlog time to land.",
    "TimeoutStopSec=30",
    "Restart=on-failure",
    "RestartSec=2",
    ...(user === null ? ["DynamicUser=yes"] : [`User=${user}`, `Group=${user}`]),
    ...(stateDirectory ? [`StateDirectory=${stateDirectory}`, "StateDirectoryMode=0750"] : []),
    `WorkingDirectory=${dataDir}`,
    `ReadWritePaths=${dataDir}`,
    "UMask=0027",
    "",
    "# Hardening",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "SystemCallArchitectures=native",
    "# The JavaScript engine's JIT compiler needs memory that is writable and then executable.",
    "MemoryDenyWriteExecute=no",
    ...(privilegedPorts.length > 0
      ? [
          `# Port ${privilegedPorts.join(", ")} is below 1024: the only capability ipward keeps.`,
          "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
          "AmbientCapabilities=CAP_NET_BIND_SERVICE",
        ]
      : ["CapabilityBoundingSet="]),
    "",
    "[Install]",
    "WantedBy=multi-user.target",
  ];
  return `${lines.join("\n")}\n`;
}

/** systemd splits ExecStart on whitespace and treats quotes, backslashes, $ and % specially. */
function quoteArg(arg: string): string {
  const escaped = arg.replaceAll("%", "%%").replaceAll("$", "$$");
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** How this process was started: the compiled binary alone, or the runtime running src/main.ts. */
export function selfCommand(): string[] {
  const compiled = typeof Bun !== "undefined" && Bun.isStandaloneExecutable;
  if (compiled) return [process.execPath];
  return [process.execPath, fileURLToPath(new URL("../main.ts", import.meta.url))];
}

/** `ipward systemd [--user U] [--install]`: print (or install) a hardened systemd unit. */
export const systemdCommand: Command = {
  name: "systemd",
  summary: "print (or install) a hardened systemd unit",
  usage:
    "ipward systemd [--user USER] [--install [--path /etc/systemd/system/ipward.service]]\n" +
    `               [--data-dir ${DEFAULT_DATA_DIR}] [--config ${DEFAULT_CONFIG_PATH}]`,
  async run(args: string[], io: CliIo) {
    const { values } = parseCommandArgs("systemd", args, SYSTEMD_OPTIONS);
    if (values.user !== undefined && !/^[a-z_][a-z0-9_-]*\$?$/i.test(values.user)) {
      throw new IpwardError("usage", `systemd: invalid --user "${values.user}": expected a user name such as ipward`);
    }
    if (values.path !== undefined && !values.install) throw new IpwardError("usage", "systemd: --path only goes with --install");
    const dataDir = values["data-dir"] ?? DEFAULT_DATA_DIR;
    if (!dataDir.startsWith("/")) throw new IpwardError("usage", `systemd: --data-dir "${dataDir}" must be an absolute path`);
    const configPath = values.config ?? (existsSync(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : null);
    if (configPath !== null && !configPath.startsWith("/")) {
      throw new IpwardError("usage", `systemd: --config "${configPath}" must be an absolute path`);
    }
    // The unit's service reads this file, not the caller's environment: load it alone for the port.
    const config = loadConfig({ configPath: configPath ?? undefined, env: {}, cwd: "/" });
    const adminPort = config.admin.listen === null ? [] : [Number(config.admin.listen.slice(config.admin.listen.lastIndexOf(":") + 1))];
    const command = selfCommand();
    const unit = renderUnit({ command, dataDir, configPath, user: values.user ?? null, ports: [config.port, ...adminPort] });
    for (const warning of unitWarnings(command[0])) io.stderr(`ipward: systemd: ${warning}\n`);

    if (!values.install) {
      io.stdout(unit);
      return 0;
    }
    if (process.getuid?.() !== 0) {
      io.stderr(`ipward: systemd --install must run as root to write ${values.path ?? DEFAULT_UNIT_PATH} (try: sudo ${command.join(" ")} systemd --install)\n`);
      return 1;
    }
    const path = values.path ?? DEFAULT_UNIT_PATH;
    try {
      writeFileSync(path, unit, { mode: 0o644 });
    } catch (error) {
      throw new IpwardError("internal", `systemd: cannot write ${path}: ${(error as Error).message}`);
    }
    io.stdout(
      `wrote ${path}\n\nNext steps:\n` +
        (configPath === null ? `  (optional) create ${DEFAULT_CONFIG_PATH}, then run this command again so the unit passes --config\n` : "") +
        "  systemctl daemon-reload\n" +
        "  systemctl enable --now ipward\n" +
        "  systemctl status ipward        # journalctl -u ipward -f for the log\n" +
        "  systemctl reload ipward        # SIGHUP: reloads geolocation data\n",
    );
    return 0;
  },
};

/** What would make the unit fail to start, said up front. */
function unitWarnings(executable: string): string[] {
  if (/^\/(home|root|run\/user)(\/|$)/.test(executable)) {
    return [`${executable} is under a home directory, which ProtectHome=yes hides from the service; copy it to /usr/local/bin first`];
  }
  return [];
}
