/** The parts of an IAM account password policy that constrain a new password's text. */
export interface PasswordRules {
  MinimumPasswordLength?: number;
  RequireSymbols?: boolean;
  RequireNumbers?: boolean;
  RequireUppercaseCharacters?: boolean;
  RequireLowercaseCharacters?: boolean;
  PasswordReusePrevention?: number;
}

// The symbols IAM accepts for RequireSymbols (IAM password policy documentation).
const SYMBOLS = /[!@#$%^&*()_+\-=[\]{}|']/;

/**
 * Checks a password against the policy's text rules and returns every problem (empty when it passes). Reuse
 * prevention cannot be checked locally; AWS enforces it.
 */
export function checkPasswordAgainstPolicy(password: string, policy: PasswordRules): string[] {
  const problems: string[] = [];
  const min = policy.MinimumPasswordLength ?? 0;
  if (password.length < min) problems.push(`must be at least ${min} characters (has ${password.length})`);
  if (policy.RequireUppercaseCharacters && !/[A-Z]/.test(password))
    problems.push('must contain an uppercase letter (A-Z)');
  if (policy.RequireLowercaseCharacters && !/[a-z]/.test(password))
    problems.push('must contain a lowercase letter (a-z)');
  if (policy.RequireNumbers && !/[0-9]/.test(password)) problems.push('must contain a number (0-9)');
  if (policy.RequireSymbols && !SYMBOLS.test(password))
    problems.push("must contain a symbol (! @ # $ % ^ & * ( ) _ + - = [ ] { } | ')");
  return problems;
}

/** The policy as short sentences, for error hints. */
export function describePasswordPolicy(policy: PasswordRules): string[] {
  const out: string[] = [];
  if (policy.MinimumPasswordLength) out.push(`at least ${policy.MinimumPasswordLength} characters`);
  if (policy.RequireUppercaseCharacters) out.push('an uppercase letter');
  if (policy.RequireLowercaseCharacters) out.push('a lowercase letter');
  if (policy.RequireNumbers) out.push('a number');
  if (policy.RequireSymbols) out.push('a symbol');
  if (policy.PasswordReusePrevention)
    out.push(`not one of the last ${policy.PasswordReusePrevention} passwords`);
  return out;
}
