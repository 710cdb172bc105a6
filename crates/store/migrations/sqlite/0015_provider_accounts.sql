-- Provider webhooks (Unipile) name the connected account: find its agent without a scan.
CREATE INDEX agents_by_provider_account ON agents (provider_account_id)
    WHERE provider_account_id IS NOT NULL;
