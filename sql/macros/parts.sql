-- Whether `key` falls in part `part` of `parts` (models in parts, `warehouse.part_rows`): a hash
-- of the key, so a key's rows are all in one part. The bound values are cast to the hash's
-- type: left as they are, the modulo ran on 128-bit integers, twice as slow as the scan.
create or replace macro in_part(key, part, parts) as (
    hash(key) % cast(parts as ubigint) = cast(part as ubigint)
);
