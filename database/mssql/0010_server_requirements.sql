-- 0010: what the procedures need of the database, checked once where it is migrated. Twin of
-- database/postgres/0010_server_requirements.sql.
-- Compatibility level 130 (SQL Server 2016) or higher: OPENJSON (sp_BulkInsertCoupons,
-- sp_ArchiveRedemptionHistory) and STRING_SPLIT do not exist below it, and a procedure that uses
-- them is created without complaint and fails on its first call. Azure SQL Database and SQL Server
-- 2022 create databases at 150-160; an old database restored or upgraded in place keeps its level
-- until someone raises it (ALTER DATABASE CURRENT SET COMPATIBILITY_LEVEL = 160).

SET XACT_ABORT ON;
GO
DECLARE @level tinyint = (SELECT compatibility_level FROM sys.databases WHERE database_id = DB_ID());
DECLARE @msg nvarchar(2048);
IF @level IS NULL OR @level < 130
BEGIN
    SET @msg = CONCAT(N'database ', DB_NAME(), N' runs at compatibility level ', @level,
                      N'; the procedures need 130 or higher (OPENJSON): ALTER DATABASE CURRENT SET COMPATIBILITY_LEVEL = 160');
    THROW 50500, @msg, 1;
END;
GO
