-- The child's name in the grammatical forms the book's language needs (genitive, vocative, possessive …),
-- resolved once when the parent names the child so every page of one book prints the same forms, and
-- the forms the parent corrected by hand.
alter table app.personalizations
  add column child_name_forms jsonb not null default '{}' check (jsonb_typeof(child_name_forms) = 'object'),
  add column child_name_overrides jsonb not null default '{}' check (jsonb_typeof(child_name_overrides) = 'object');
