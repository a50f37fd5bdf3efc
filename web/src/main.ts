/** LungLab web client entry: styles, then the router (app/). */
import "./style.css";
import { startRouter } from "./app/router";

startRouter();
