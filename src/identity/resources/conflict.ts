import { conflict } from '../../platform/http/faults.js';
import { isUniqueViolation } from '../../platform/db/connect.js';

/**
 * Runs a write and turns a unique-constraint violation into Keystone's 409
 * "Conflict occurred attempting to store <type> - <details>."
 */
export async function storeOrConflict<T>(type: string, details: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Conflict occurred attempting to store ${type} - ${details}.`);
    throw err;
  }
}

/** Keystone's duplicate-entry detail for named entities in a domain. */
export const duplicateDetail = (name: string, domainId: string): string =>
  `Duplicate entry found with name ${name} at domain ID ${domainId}`;
