/**
 * Masks an access key id (or any token) for display: `AKIAIOSFODNN7EXAMPLE` → `AKIA…MPLE`. Short values are fully
 * masked. Never use on a secret access key — don't display those at all.
 */
export function maskKeyId(id: string): string {
  if (id.length <= 8) return '…';
  return `${id.slice(0, 4)}…${id.slice(-4)}`;
}
