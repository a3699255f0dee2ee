#!/usr/bin/env node
// Entry point for the installed `pmip6` command: runs the TypeScript CLI through tsx.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
register('tsx/esm', pathToFileURL('./'));
await import('../src/cli.ts');
