/** The admin UI's entry point: the page's stylesheet and the application element. */
import "./global.css";
import "./app/ipward-app.ts";
