{#- True when text matches pattern under match_type: exact, prefix (starts with), suffix (ends
    with) or contains; false for any other match type. All three arguments are SQL
    expressions, so the pattern and the match type may come from a table (the blocklist). -#}
{% macro text_matches(text, pattern, match_type) -%}
    {{ return(adapter.dispatch('text_matches', 'klant')(text, pattern, match_type)) }}
{%- endmacro %}

{#- left/right/position exist on DuckDB and PostgreSQL; no like, so % and _ in a pattern are
    plain characters #}
{% macro default__text_matches(text, pattern, match_type) -%}
    coalesce(
        case {{ match_type }}
            when 'exact' then {{ text }} = {{ pattern }}
            when 'prefix' then left({{ text }}, length({{ pattern }})) = {{ pattern }}
            when 'suffix' then right({{ text }}, length({{ pattern }})) = {{ pattern }}
            when 'contains' then position({{ pattern }} in {{ text }}) > 0
        end,
        false
    )
{%- endmacro %}

{% macro spark__text_matches(text, pattern, match_type) -%}
    coalesce(
        case {{ match_type }}
            when 'exact' then {{ text }} = {{ pattern }}
            when 'prefix' then startswith({{ text }}, {{ pattern }})
            when 'suffix' then endswith({{ text }}, {{ pattern }})
            when 'contains' then contains({{ text }}, {{ pattern }})
        end,
        false
    )
{%- endmacro %}
