-- The likeness check of every face page (docs/likeness.md). At analysis the gpu runner keeps the
-- child's face descriptor (face-api's 128 numbers; never shown to anyone, cleared with the analysis);
-- after drawing a face page it stores how far the drawn face is from it (Euclidean distance: lower is
-- more alike; null when it could not be measured) and whether the page stayed unlike the child after
-- its one redraw (flagged: the parent is offered to draw it again).
alter table app.personalizations
  add column photo_descriptor real[] check (photo_descriptor is null or cardinality(photo_descriptor) = 128);
alter table app.personalization_pages
  add column likeness_distance real check (likeness_distance is null or likeness_distance >= 0),
  add column likeness_redrawn boolean not null default false,
  add column likeness_flagged boolean not null default false;
