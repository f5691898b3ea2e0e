#!/usr/bin/env node
import { Command } from 'commander';
import { runCli } from './program.js';

const program = new Command();
process.exitCode = await runCli(program, process.argv, process.env, process.cwd());
