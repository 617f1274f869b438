#!/usr/bin/env node
import '../dist/server/rapport.js';
