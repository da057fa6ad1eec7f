{#- Text to a UTC timestamp without time zone; null when the text does not match the format.
    formats: 'hubspot' "YYYY-MM-DD HH:MM" (UTC), 'iso8601' "YYYY-MM-DDTHH:MM:SS[.fff]Z",
    'shopify' "YYYY-MM-DD HH:MM:SS +HHMM" (local time with offset, converted to UTC). -#}
{% macro parse_timestamp(column, format) -%}
    {%- set value = 'trim(' ~ column ~ ')' -%}
    {%- if format == 'hubspot' -%}
    case
        when {{ klant.regex_matches(value, '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}(:[0-9]{2})?$') }}
            then cast({{ value }} as timestamp)
    end
    {%- elif format == 'iso8601' -%}
    case
        when {{ klant.regex_matches(value, '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$') }}
            then cast(replace(replace({{ value }}, 'T', ' '), 'Z', '') as timestamp)
    end
    {%- elif format == 'shopify' -%}
    case
        when {{ klant.regex_matches(value, '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}$') }}
            then {{ dbt.dateadd(
                'minute',
                '(case when substr(' ~ value ~ ', 21, 1) = \'-\' then 1 else -1 end)'
                ~ ' * (cast(substr(' ~ value ~ ', 22, 2) as integer) * 60'
                ~ ' + cast(substr(' ~ value ~ ', 24, 2) as integer))',
                'cast(substr(' ~ value ~ ', 1, 19) as timestamp)'
            ) }}
    end
    {%- else -%}
    {{ exceptions.raise_compiler_error("parse_timestamp: unknown format '" ~ format ~ "'") }}
    {%- endif -%}
{%- endmacro %}
