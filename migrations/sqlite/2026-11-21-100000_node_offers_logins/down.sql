DROP TABLE login_failures;
DROP TABLE offers;
DROP TABLE node_settings;
