-- Login failures are counted in memory per (account name, client address) since #17
-- (node-service's lockout): the table is no longer read or written.
DROP TABLE login_failures;
