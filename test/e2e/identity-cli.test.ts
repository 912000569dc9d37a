import { identityCliSuite } from './identity-cli.suite.js';

identityCliSuite();
