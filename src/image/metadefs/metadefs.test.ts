import { metadefApiSuite } from './api-suite.js';

// The metadef API on an in-memory SQLite database (see api-suite.ts for what is real and what is not).
metadefApiSuite('metadefs on SQLite', async () => 'sqlite://:memory:');
