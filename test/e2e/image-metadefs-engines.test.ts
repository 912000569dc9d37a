// The metadefs API suite on PostgreSQL and MariaDB (SQLite runs beside the code), each in its own
// created-and-dropped database.
import { metadefApiSuite } from '../../src/image/metadefs/api-suite.js';
import { tempPostgres, tempMariadb } from '../lib/databases.js';

let pg: { url: string; drop(): Promise<void> } | undefined;
let my: { url: string; drop(): Promise<void> } | undefined;
metadefApiSuite('metadefs on PostgreSQL', async () => (pg = await tempPostgres()).url, async () => { await pg?.drop(); });
metadefApiSuite('metadefs on MariaDB', async () => (my = await tempMariadb()).url, async () => { await my?.drop(); });
