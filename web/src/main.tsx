import { render } from "preact";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { App } from "./app.tsx";
import { interceptLinks } from "./lib/router.ts";

const root = document.getElementById("app")!;
interceptLinks(root);
render(<App />, root);
