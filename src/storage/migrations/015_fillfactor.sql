-- Room on every page for the updates of payment intents: an intent is inserted, then updated
-- once or twice within a second (the outcome, a capture). With the default fill factor (100) a
-- page is full when the update comes, so the new row version goes to another page and every
-- index of the table gets a new entry; with room left, PostgreSQL keeps the update on the page
-- (HOT, no index writes), since those updates change no indexed column. (Attempts gain nothing:
-- their status and PSP reference are in their indexes, so their updates are never HOT.)
ALTER TABLE payment_intents SET (fillfactor = 85);
