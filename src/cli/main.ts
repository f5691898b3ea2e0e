#!/usr/bin/env node
import { Command } from 'commander';
import { runCli } from './program.js';

const code = await runCli(new Command(), process.argv, process.env, process.cwd());
process.exitCode = code;
// Everything was closed in order; if some forgotten handle still keeps the
// event loop alive, do not hang a service manager: leave after a short grace.
setTimeout(() => process.exit(code), 2000).unref();
