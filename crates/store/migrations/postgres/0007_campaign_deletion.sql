-- Deleting a campaign deletes the webhook events it caused and their deliveries (the delivery
-- bodies carry the campaign's prospect data); this index finds the deliveries of an event.
CREATE INDEX deliveries_by_event ON webhook_deliveries (event_id);
