-- 职业技能等级 (issue 19): the level of the certificate a course leads to, copied to each
-- certificate it issues (taxonomy skill_level; NULL: none stated). Existing rows stay valid.
ALTER TABLE courses ADD COLUMN skill_level text;
ALTER TABLE certificates ADD COLUMN skill_level text;
