-- Funnel attempts, step $step: every attempt that reached step $step - 1 takes the earliest
-- later event of its unit matching step $step within its window (the greedy choice, which
-- reaches the furthest step when each step must follow the previous one). `strict` funnels
-- take it only if it is the unit's very next event. An event fills at most one step of an
-- attempt: it must come after the previous step's event in the unit's order.
-- Returns how many attempts advanced.
create or replace temp table fa_next as
select a.attempt_id, min(s.unit_seq) as unit_seq
from fa_attempts as a
inner join config.funnels as f on f.funnel = a.funnel
inner join intermediate.int_funnels__step_events as s
    on s.funnel = a.funnel and s.unit_id = a.unit_id and s.step_index = $step
where a.level = $step - 1
    and s.unit_seq > a.last_seq
    and s.occurred_at <= a.closes_at
    and (f.order_mode <> 'strict' or s.unit_seq = a.last_seq + 1)
group by a.attempt_id;

insert into fa_steps
select n.attempt_id, $step, s.occurred_at, n.unit_seq
from fa_next as n
inner join fa_attempts as a on a.attempt_id = n.attempt_id
inner join intermediate.int_funnels__step_events as s
    on s.funnel = a.funnel and s.unit_id = a.unit_id and s.step_index = $step
    and s.unit_seq = n.unit_seq;

create or replace temp table fa_attempts as
select
    a.attempt_id, a.funnel, a.unit_id, a.customer_id, a.entered_at, a.closes_at,
    case when n.attempt_id is null then a.level else $step end as level,
    coalesce(n.unit_seq, a.last_seq) as last_seq
from fa_attempts as a
left join fa_next as n on n.attempt_id = a.attempt_id;

select count(*) from fa_next;
