#!/bin/sh
# minio-init (one-shot): creates the bucket (private), its CORS rules for the web origin, and the
# lifecycle rule that expires photos posted to uploads/ but never checked (the api moves a checked photo
# to photos/ and deletes its upload; an abandoned one would stay for ever).
# MinIO serves CORS for the whole server from MINIO_API_CORS_ALLOW_ORIGIN (set on the minio service);
# the bucket rules are applied too where the server supports them (AWS, newer MinIO).
set -eu
bucket="${S3_BUCKET_NAME:?}"
origin="${WEB_ORIGIN:?}"
mc mb --ignore-existing "local/$bucket"
mc anonymous set none "local/$bucket"
cors=$(mktemp)
cat >"$cors" <<XML
<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>$origin</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedMethod>POST</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>
XML
if mc cors set "local/$bucket" "$cors" 2>/dev/null; then
  echo "minio-init: bucket $bucket with CORS for $origin"
else
  echo "minio-init: bucket $bucket; CORS from MINIO_API_CORS_ALLOW_ORIGIN ($origin)"
fi
rm -f "$cors"
# Imported whole (not added), so running this again leaves one rule.
echo '{"Rules":[{"ID":"expire-unchecked-uploads","Status":"Enabled","Filter":{"Prefix":"uploads/"},"Expiration":{"Days":1}}]}' |
  mc ilm import "local/$bucket"
echo "minio-init: objects under uploads/ expire after a day"
