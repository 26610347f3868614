#!/usr/bin/env node
import { launch } from "./launch.js";

await launch(new URL("../server/main.ts", import.meta.url));
