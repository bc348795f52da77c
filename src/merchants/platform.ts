// The platform's own account (migration 029): the operator's events (reconciliation exceptions)
// are written for it, and the admin routes /v1/admin/events and /v1/admin/webhook_endpoints act
// as it. It has no API key, so no merchant request can ever reach it.
export const platformAccountId = 'mch_platform';
