import { IamRotationError } from './errors.js';
import type { StaticCredentials } from './types.js';

/**
 * Formats a key as the console's access-key CSV, the format `aws configure import --csv file://…` accepts (it needs
 * the "User name", "Access key ID" and "Secret access key" headers; the profile it creates is named after the user).
 * The aws CLI splits on commas without quoting, so a name containing a comma cannot be exported.
 *
 * @param userName - the IAM user name (or the profile name you want `aws configure import` to create)
 * @throws {IamRotationError} `CSV_EXPORT_FAILED` when the name contains a comma or a line break
 * @example
 * formatAccessKeyCsv('alice', key) // "User name,Access key ID,Secret access key\nalice,AKIA…,…\n"
 */
export function formatAccessKeyCsv(userName: string, key: StaticCredentials): string {
  if (/[,\r\n]/.test(userName) || userName.trim() === '') {
    throw new IamRotationError('CSV_EXPORT_FAILED', `Cannot write "${userName}" as a CSV user name`, {
      hint: 'The aws CLI CSV importer does not support quoting; choose a name without commas.',
    });
  }
  return `User name,Access key ID,Secret access key\n${userName},${key.accessKeyId},${key.secretAccessKey}\n`;
}
