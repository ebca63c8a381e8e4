-- GET / with a different public client address in X-Forwarded-For on each request.
-- The requests are formatted once in init() (off the clock) so that wrk's single Lua thread never
-- becomes the bottleneck; the pool is larger than ipward's default geo cache (50 000 entries) and is
-- walked in order, so every lookup in a round misses an LRU cache of that size, as with truly random
-- clients. Script arguments: [pool size (default 131072)] [IPv6 share in percent (default 20)].

local pool = {}
local cursor = 0

-- Leading IPv4 octets that are private, reserved, loopback, CGNAT, multicast or otherwise not
-- routable; 172 and 192 are narrowed below instead of being excluded whole.
local reserved_first = { [0] = true, [10] = true, [100] = true, [127] = true, [169] = true }

local function public_ipv4()
  while true do
    local a = math.random(1, 223)
    local b = math.random(0, 255)
    local private = reserved_first[a]
      or (a == 172 and b >= 16 and b <= 31)
      or (a == 192 and (b == 0 or b == 88 or b == 168))
      or (a == 198 and (b == 18 or b == 19 or b == 51))
      or (a == 203 and b == 0)
    if not private then
      return string.format("%d.%d.%d.%d", a, b, math.random(0, 255), math.random(1, 254))
    end
  end
end

-- Global unicast space delegated to the regional registries (2400::/12 … 2c00::/12), written
-- uncompressed; ipward canonicalises it (RFC 5952) itself.
local function public_ipv6()
  local groups = { string.format("%x", 0x2400 + math.random(0, 0x8ff)) }
  for i = 2, 8 do
    groups[i] = string.format("%x", math.random(0, 0xffff))
  end
  return table.concat(groups, ":")
end

init = function(args)
  local size = tonumber(args[1]) or 131072
  local ipv6_percent = tonumber(args[2]) or 20
  math.randomseed(os.time())
  for i = 1, size do
    local ip = math.random(1, 100) <= ipv6_percent and public_ipv6() or public_ipv4()
    pool[i] = wrk.format("GET", "/", { ["X-Forwarded-For"] = ip })
  end
end

request = function()
  cursor = cursor % #pool + 1
  return pool[cursor]
end
