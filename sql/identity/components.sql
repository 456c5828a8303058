-- The final components: the graph without hubs; each hub stands alone as its own component.
create or replace table intermediate.int_identity__components as
select cast(node_id as bigint) as node_id, cast(label as bigint) as component_id
from cc_labels
union all
select node_id, node_id from intermediate.int_identity__hubs;
