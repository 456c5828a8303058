-- The chunk of a session an event falls in, `elapsed_ms` after the session's first event: a
-- session longer than `max_ms` is cut into chunks of at most that (0 at elapsed 0, else
-- ceil(elapsed / max) - 1, so an event exactly `max_ms` in stays in the first chunk).
create or replace macro session_chunk(elapsed_ms, max_ms) as (
    case
        when elapsed_ms = 0 then 0
        else cast(ceil(elapsed_ms / (max_ms * 1.0)) as bigint) - 1
    end
);
