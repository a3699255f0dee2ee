-- Profile change notifications for the profile directory (src/store/profile-directory.ts):
-- every change to what ProfileRepo.find returns for an MN sends pg_notify('pmip6_profile',
-- mn_id) from the changing transaction (delivered at commit, nothing on rollback). Payload ''
-- means "any profile may have changed" (TRUNCATE, a renamed pool). Runs on PostgreSQL and PGlite.

CREATE FUNCTION pmip6_profile_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    PERFORM pg_notify('pmip6_profile', NEW.mn_id);
  END IF;
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('pmip6_profile', OLD.mn_id);
  ELSIF TG_OP = 'UPDATE' THEN
    IF OLD.mn_id <> NEW.mn_id THEN
      PERFORM pg_notify('pmip6_profile', OLD.mn_id);
    END IF;
  END IF;
  RETURN NULL;
END $$;

-- A profile's prefixes: notify the owning MN (old and new owner when a prefix moves). When
-- the profile itself is being deleted the cascade finds no row here; the profile's own
-- trigger has notified.
CREATE FUNCTION pmip6_hnp_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  m text;
BEGIN
  IF TG_OP <> 'DELETE' THEN
    SELECT mn_id INTO m FROM profiles WHERE id = NEW.profile_id;
    IF m IS NOT NULL THEN
      PERFORM pg_notify('pmip6_profile', m);
    END IF;
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.profile_id <> NEW.profile_id) THEN
    SELECT mn_id INTO m FROM profiles WHERE id = OLD.profile_id;
    IF m IS NOT NULL THEN
      PERFORM pg_notify('pmip6_profile', m);
    END IF;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION pmip6_profile_notify_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('pmip6_profile', '');
  RETURN NULL;
END $$;

CREATE TRIGGER profiles_notify AFTER INSERT OR UPDATE OR DELETE ON profiles
  FOR EACH ROW EXECUTE FUNCTION pmip6_profile_notify();
CREATE TRIGGER hnp_assignments_notify AFTER INSERT OR UPDATE OR DELETE ON hnp_assignments
  FOR EACH ROW EXECUTE FUNCTION pmip6_hnp_notify();
CREATE TRIGGER profiles_truncate_notify AFTER TRUNCATE ON profiles
  FOR EACH STATEMENT EXECUTE FUNCTION pmip6_profile_notify_all();
CREATE TRIGGER hnp_assignments_truncate_notify AFTER TRUNCATE ON hnp_assignments
  FOR EACH STATEMENT EXECUTE FUNCTION pmip6_profile_notify_all();
-- Profiles show their pools by name.
CREATE TRIGGER pools_rename_notify AFTER UPDATE OF name ON pools
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION pmip6_profile_notify_all();
