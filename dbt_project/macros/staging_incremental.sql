{#- Incremental staging keyed on a raw key (an event's messageId, an order's Name): a staged row
    is computed from every raw row of its key and records how many there were (raw_row_count).

    staging_delete_changed_keys() is the model's pre-hook on an incremental run: it deletes every
    staged row whose key no longer has exactly raw_row_count raw rows (a new load re-delivered it,
    or a privacy purge or retention deleted some or all of its raw rows). The model then computes
    only the keys it lacks (staging_keys_missing()): new keys and the ones just deleted. Appended
    raw rows, deleted raw rows, staged rows deleted by a purge and an interrupted run all come out
    as a full rebuild would, without bookkeeping of which loads were seen. Raw tables are
    append-only: a raw row is never updated in place. #}
{#- raw_column: the raw text column of the key; the key is its trimmed text, null when empty #}
{% macro staging_delete_changed_keys(raw_relation, raw_column, key_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ key_column }} in (
            select staged.{{ key_column }}
            from {{ this }} as staged
            left join (
                select
                    nullif(trim({{ raw_column }}), '') as raw_key,
                    count(*) as raw_row_count
                from {{ raw_relation }}
                where nullif(trim({{ raw_column }}), '') is not null
                group by nullif(trim({{ raw_column }}), '')
            ) as raw_counts
                on raw_counts.raw_key = staged.{{ key_column }}
            where raw_counts.raw_row_count is distinct from staged.raw_row_count
        )
    {%- endif -%}
{%- endmacro %}

{#- staging_delete_stale_country_codes() is a pre-hook too: it deletes every staged row with a
    country code (country_column typed as in raw, code_column its ISO-2 code) that the
    country_aliases seed, as it is now, gives otherwise, so the model computes that row again
    with the seed's present mapping (and the phones read with it as region), as a full rebuild
    would. A changed seed is reloaded by `dbt seed` or `dbt build` before the model runs. #}
{% macro staging_delete_stale_country_codes(aliases, key_column, country_columns) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ key_column }} in (
            select staged.{{ key_column }}
            from {{ this }} as staged
            {%- for country_column, code_column in country_columns %}
            left join ({{ klant.country_regions(aliases) }}) as regions_{{ loop.index }}
                on regions_{{ loop.index }}.alias_key = lower(trim(staged.{{ country_column }}))
            {%- endfor %}
            where
            {%- for country_column, code_column in country_columns %}
                {{ 'or ' if not loop.first }}regions_{{ loop.index }}.country_code
                    is distinct from staged.{{ code_column }}
            {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}

{#- on an incremental run, a where condition on the raw rows (aliased raw_alias): true for the
    rows of keys the staged table does not hold. The model calls it under is_incremental() (the
    unit tests replace that in the model's own context only). #}
{% macro staging_keys_missing(raw_alias, raw_column, key_column) -%}
    {{ return(adapter.dispatch('staging_keys_missing', 'klant')(raw_alias, raw_column, key_column)) }}
{%- endmacro %}

{#- PostgreSQL plans `not exists` as an anti join (`not in` a large subquery it may run row by
    row) #}
{% macro default__staging_keys_missing(raw_alias, raw_column, key_column) -%}
    not exists (
        select 1
        from {{ this }} as staged
        where staged.{{ key_column }} = nullif(trim({{ raw_alias }}.{{ raw_column }}), '')
    )
{%- endmacro %}

{#- DuckDB runs that correlated `not exists` on an expression by first copying every raw row
    whole (JSON texts included) to match them back: at 10M web events it took 13 s and spilled
    2.6 GB to find a day's 93k new events. `not in` an uncorrelated list of the staged keys is
    one hash lookup per raw row (2.8 s). A raw row without a key is kept, as `not exists` keeps
    it. #}
{% macro duckdb__staging_keys_missing(raw_alias, raw_column, key_column) -%}
    {%- set raw_key = "nullif(trim(" ~ raw_alias ~ "." ~ raw_column ~ "), '')" -%}
    ({{ raw_key }} is null or {{ raw_key }} not in (
        select staged.{{ key_column }}
        from {{ this }} as staged
        where staged.{{ key_column }} is not null
    ))
{%- endmacro %}
