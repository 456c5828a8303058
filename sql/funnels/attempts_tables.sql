-- The attempts' tables, filled part by part (`attempts_publish.sql`).
-- int_funnels__attempts: one row per attempt (a step-1 event that started one), with the
-- furthest step it reached (`level`) and whether an exclusion event voided it.
create or replace table intermediate.int_funnels__attempts (
    attempt_id bigint,
    funnel varchar,
    unit_id varchar,
    customer_id varchar,
    entered_at timestamp,
    closes_at timestamp,
    level integer,
    is_voided boolean
);

-- int_funnels__attempt_steps: the event that filled each step of each attempt.
create or replace table intermediate.int_funnels__attempt_steps (
    attempt_id bigint,
    step_index integer,
    occurred_at timestamp,
    unit_seq bigint
);
