/** RFC 5280 §5.3.1 CRLReason codes of the reasons a subscriber may give (Let's Encrypt's list): `revoke --reason`. */
export const REVOCATION_REASONS = { unspecified: 0, keyCompromise: 1, superseded: 4, cessationOfOperation: 5 } as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;
