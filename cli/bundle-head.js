#!/bin/sh
':' //; unset NODE_EXTRA_CA_CERTS; exec node "$0" "$@"
// The two lines above are the command's launcher. To sh they drop NODE_EXTRA_CA_CERTS and
// run this file with node: Node 20 reads that certificate bundle before any JavaScript runs
// (75 ms per start on the bench machine), and sockdiag makes no TLS connection. To
// JavaScript they are a string and a comment. esbuild puts this file at the top of
// dist/bin/sockdiag.cjs (package.json, "bundle:command").
'use strict'; const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
