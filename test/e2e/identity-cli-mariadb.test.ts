import { identityCliSuite } from './identity-cli.suite.js';
import { tempMariadb } from '../lib/databases.js';

identityCliSuite(tempMariadb);
