-- A check usable inside one SQL statement: raises SQLSTATE PR001 (undoing the whole statement)
-- when the condition is not true. Single-statement compare-and-set writes use it to refuse a
-- partial effect, e.g. a payment's intent updated while its attempt was not.
CREATE FUNCTION payrail_assert(condition boolean, message text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  IF condition IS NOT TRUE THEN
    RAISE EXCEPTION USING ERRCODE = 'PR001', MESSAGE = message;
  END IF;
  RETURN true;
END
$$;
