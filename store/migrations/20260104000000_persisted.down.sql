DROP TABLE IF EXISTS persisted_only;
DROP TABLE IF EXISTS persisted_documents;
DROP TABLE IF EXISTS persisted_clients;
DROP TABLE IF EXISTS apq_documents;
