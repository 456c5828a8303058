-- Attempts of plain ordered funnels, step $step: each chain at step $step - 1 takes the
-- earliest step-$step event after its step-$step - 1 event, if its latest attempt's window
-- covers it. Chains often meet (one event follows several), so the sweep runs over their
-- distinct positions and the step's events of the same units. Returns how many advanced.
create or replace temp table fc_next as
with positions as (
    select distinct unit_key, unit_seq
    from fc_chain_steps
    where step_index = $step - 1
),

merged as (
    select unit_key, unit_seq, cast(null as timestamp) as occurred_at, 0 as is_step
    from positions
    union all
    select s.unit_key, s.unit_seq, s.occurred_at, 1
    from intermediate.int_funnels__step_events as s
    where s.step_index = $step and s.unit_key in (select p.unit_key from positions as p)
),

swept as (
    select
        *,
        min(case when is_step = 1 then unit_seq end) over (
            partition by unit_key
            order by unit_seq, is_step desc
            rows between current row and unbounded following
        ) as next_seq
    from merged
)

select w.unit_key, w.unit_seq as from_seq, s.unit_seq as next_seq, s.occurred_at as next_at
from swept as w
inner join intermediate.int_funnels__step_events as s
    on s.unit_key = w.unit_key and s.unit_seq = w.next_seq and s.step_index = $step
where w.is_step = 0;

insert into fc_chain_steps
select p.unit_key, p.chain_seq, $step, n.next_seq, n.next_at
from fc_chain_steps as p
inner join fc_chains as c on c.unit_key = p.unit_key and c.chain_seq = p.chain_seq
inner join fc_next as n on n.unit_key = p.unit_key and n.from_seq = p.unit_seq
where p.step_index = $step - 1 and n.next_at <= c.closes_at;

select count(*) from fc_chain_steps where step_index = $step;
