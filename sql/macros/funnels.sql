-- The unit a funnel counts an event for: its customer, or its session for a funnel counted by
-- session (`count_by`).
create or replace macro funnel_unit(count_by, customer_id, session_id) as (
    case count_by when 'session' then session_id else customer_id end
);
