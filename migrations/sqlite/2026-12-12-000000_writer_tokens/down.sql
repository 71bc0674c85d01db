DROP TABLE writer_tokens;
