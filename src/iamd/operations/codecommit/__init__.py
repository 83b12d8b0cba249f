"""CodeCommit operations (API version 2015-04-13, JSON protocol)."""

from iamd.operations.codecommit import repositories
from iamd.operations.registry import Operation

OPERATIONS: tuple[Operation, ...] = (*repositories.OPERATIONS,)
