DROP TABLE cosignatures;
DROP TABLE witness_submissions;
DROP TABLE witnesses;
DROP TABLE witness_evidence;
DROP TABLE witnessed_logs;
