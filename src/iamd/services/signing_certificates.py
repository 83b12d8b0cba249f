"""X.509 signing certificates of IAM users (UploadSigningCertificate and its family).

A certificate is read and checked (PEM, within its validity) before the transaction
opens; inside it, under the user's row lock (PostgreSQL) or the database write lock
(SQLite), the account-wide duplicate check and the per-user quota (Active and Inactive
both count) cannot be raced. Signing certificates are not SigV4 credentials: no write
here changes a cached credential.
"""

from __future__ import annotations

from iamd.clock import Clock
from iamd.errors import DuplicateCertificate, LimitExceeded, NoSuchEntity
from iamd.ids import IdGenerator
from iamd.model.certificates import SigningCertificate, SigningCertificateStatus
from iamd.model.page import Page
from iamd.model.quotas import Quotas
from iamd.services.certificate_parsing import signing_certificate
from iamd.services.users import lock_user, require_user
from iamd.store.sql.paging import page_of_sequence
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions


class SigningCertificateService:
    def __init__(self, tx: Transactions, clock: Clock, ids: IdGenerator, quotas: Quotas) -> None:
        self._tx = tx
        self._clock = clock
        self._ids = ids
        self._quotas = quotas

    def upload(self, user_name: str, body: str) -> SigningCertificate:
        now = self._clock.now()
        parsed = signing_certificate(body, now)
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            user = lock_user(repos, user_name)
            limit = self._quotas.signing_certificates_per_user
            if repos.signing_certificates.count_for_user(user.user_id) >= limit:
                raise LimitExceeded.quota("SigningCertificatesPerUser", limit)
            if repos.signing_certificates.has_fingerprint(parsed.fingerprint):
                raise DuplicateCertificate()
            certificate = SigningCertificate(
                certificate_id=self._ids.signing_certificate_id(),
                user_id=user.user_id,
                user_name=user.name,
                body=body,
                status=SigningCertificateStatus.ACTIVE,
                upload_date=now,
            )
            repos.signing_certificates.add(certificate, parsed.fingerprint)
            return certificate

    def listing(
        self, user_name: str, marker: str | None, max_items: int
    ) -> Page[SigningCertificate]:
        with self._tx.read() as repos:
            user = require_user(repos, user_name)
            certificates = repos.signing_certificates.for_user(user.user_id)
        return page_of_sequence(certificates, marker, max_items)

    def update(self, user_name: str, certificate_id: str, status: SigningCertificateStatus) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            _require_users_certificate(repos, user_name, certificate_id)
            repos.signing_certificates.set_status(certificate_id, status)

    def delete(self, user_name: str, certificate_id: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            _require_users_certificate(repos, user_name, certificate_id)
            repos.signing_certificates.delete(certificate_id)


def _require_users_certificate(
    repos: Repositories, user_name: str, certificate_id: str
) -> SigningCertificate:
    user = lock_user(repos, user_name)
    certificate = repos.signing_certificates.get(certificate_id)
    # Another user's certificate is reported exactly like one that does not exist.
    if certificate is None or certificate.user_id != user.user_id:
        raise NoSuchEntity.signing_certificate(certificate_id)
    return certificate
