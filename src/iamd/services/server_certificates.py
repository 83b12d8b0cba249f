"""Server certificates (UploadServerCertificate and its family), with their tags.

The body, private key and chain are checked before the transaction opens
(`certificate_parsing`); the private key is then sealed with the secret box, the
certificate's id as associated data, and stored only sealed: no operation returns it,
and no error or log line quotes it. The account-wide quota is checked under the
account's "server_certificates" lock, so concurrent uploads cannot exceed it.
"""

from __future__ import annotations

from collections.abc import Sequence

from iamd.auth.secret_box import SecretBox
from iamd.clock import Clock
from iamd.errors import EntityAlreadyExists, LimitExceeded, NoSuchEntity
from iamd.ids import IdGenerator, IdPrefix
from iamd.model import Tag, iam_arn
from iamd.model.certificates import ServerCertificate
from iamd.model.page import Page
from iamd.model.quotas import Quotas
from iamd.services.certificate_parsing import server_certificate
from iamd.services.tagging import ResourceTags, TaggedKind, check_tag_count
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions


def private_key_context(server_certificate_id: str) -> bytes:
    """Associated data binding a sealed private key to its certificate."""
    return f"server-certificate:{server_certificate_id}".encode()


def require_server_certificate(
    repos: Repositories, name: str, *, for_update: bool = False
) -> ServerCertificate:
    found = repos.server_certificates.get_by_name(name, for_update=for_update)
    if found is None:
        raise NoSuchEntity.server_certificate(name)
    return found


_TAGS: TaggedKind[ServerCertificate] = TaggedKind(
    find=lambda repos, name, for_update: require_server_certificate(
        repos, name, for_update=for_update
    ),
    tags_of=lambda certificate: certificate.tags,
    owner_id=lambda certificate: certificate.server_certificate_id,
    repository=lambda repos: repos.server_certificates.tags,
    # A server certificate is nobody's credential.
    credentials=NO_CREDENTIALS,
)


class ServerCertificateService:
    def __init__(
        self, tx: Transactions, clock: Clock, ids: IdGenerator, quotas: Quotas, box: SecretBox
    ) -> None:
        self._tx = tx
        self._clock = clock
        self._ids = ids
        self._quotas = quotas
        self._box = box
        self.tags = ResourceTags(tx, _TAGS, quotas.tags_per_resource)

    def upload(
        self,
        name: str,
        path: str,
        body: str,
        private_key: str,
        chain: str | None,
        tags: Sequence[Tag] = (),
    ) -> ServerCertificate:
        now = self._clock.now()
        parsed = server_certificate(body, private_key, chain, now)
        check_tag_count((), tags, self._quotas.tags_per_resource)
        certificate_id = self._ids.entity_id(IdPrefix.SERVER_CERTIFICATE)
        sealed = self._box.seal(private_key, private_key_context(certificate_id))
        certificate = ServerCertificate(
            server_certificate_id=certificate_id,
            name=name,
            path=path,
            arn=iam_arn(self._tx.account_id, "server-certificate", path, name),
            # AWS keeps the PEM text without its surrounding whitespace (a file's final
            # newline); Terraform's provider trims it too and plans no change only then.
            body=body.strip(),
            chain=chain.strip() if chain is not None else None,
            expiration=parsed.not_after,
            upload_date=now,
            tags=tuple(tags),
        )
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            repos.account.lock("server_certificates")
            if repos.server_certificates.get_by_name(name) is not None:
                raise EntityAlreadyExists.server_certificate(name)
            limit = self._quotas.server_certificates
            if repos.server_certificates.count() >= limit:
                raise LimitExceeded.quota("ServerCertificatesPerAccount", limit)
            repos.server_certificates.add(certificate, sealed)
        return certificate

    def get(self, name: str) -> ServerCertificate:
        with self._tx.read() as repos:
            return require_server_certificate(repos, name)

    def arn_of(self, name: str) -> str:
        """The certificate's ARN for authorization; the default path `/` when unknown."""
        with self._tx.read() as repos:
            found = repos.server_certificates.get_by_name(name)
        if found is None:
            return iam_arn(self._tx.account_id, "server-certificate", "/", name)
        return found.arn

    def listing(
        self, path_prefix: str, marker: str | None, max_items: int
    ) -> Page[ServerCertificate]:
        with self._tx.read() as repos:
            return repos.server_certificates.listing(path_prefix, marker, max_items)

    def update(self, name: str, new_name: str | None, new_path: str | None) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            certificate = require_server_certificate(repos, name, for_update=True)
            renamed = new_name is not None and new_name.lower() != certificate.name.lower()
            if renamed and repos.server_certificates.get_by_name(str(new_name)) is not None:
                raise EntityAlreadyExists.server_certificate(str(new_name))
            repos.server_certificates.rename(certificate.server_certificate_id, new_name, new_path)

    def delete(self, name: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            certificate = require_server_certificate(repos, name, for_update=True)
            repos.server_certificates.delete(certificate.server_certificate_id)
