export { freePort } from "../../devhost/ports.js";
