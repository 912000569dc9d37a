import { identityCliSuite } from './identity-cli.suite.js';
import { tempPostgres } from '../lib/databases.js';

identityCliSuite(tempPostgres);
