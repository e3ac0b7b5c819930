"""The secrets every test app runs with: WhatsApp's (the fake Graph API signs with the same ones) and the key of
the audit log's pseudonyms."""

from __future__ import annotations

TEST_SECRETS = {
    "whatsapp_app_secret": "test-app-secret",
    "whatsapp_verify_token": "test-verify-token",
    "whatsapp_access_token": "test-access-token",
    "whatsapp_phone_number_id": "100200300",
    "audit_pseudonym_key": "test-audit-pseudonym-key",
}
