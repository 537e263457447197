#!/bin/sh
# docker-compose's PostgreSQL: include the same tuning as the local stack, once, at initdb.
echo "include '/etc/postgresql/boarding.conf'" >> "$PGDATA/postgresql.conf"
