-- RFC 6572 §4.10 PMIP6-Home-Interface-ID: the 64-bit interface identifier given to the MN
-- (links such as PPP or 3GPP where the network assigns it), as four hex groups.
ALTER TABLE profiles ADD COLUMN interface_id text CHECK (interface_id IS NULL OR interface_id ~ '^[0-9a-f]{4}(:[0-9a-f]{4}){3}$');
