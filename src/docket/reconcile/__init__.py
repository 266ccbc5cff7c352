"""Offer the published entities to OpenRefine and other clients of the Reconciliation Service API.

``load_entities`` reads persons, organizations, places, events and topics from a build;
``ReconciliationService`` answers the manifest, batches of queries, suggest and previews, scoring
names with the mapping's reconciler. No Flask here: ``docket.serve.reconcile`` serves it.
"""

from docket.reconcile.entities import TYPES, Entity, EntityIndex, EntityType, load_entities, mentions
from docket.reconcile.service import MAX_LIMIT, MAX_QUERIES, Candidate, ReconciliationService, ServiceError

__all__ = [
    "MAX_LIMIT",
    "MAX_QUERIES",
    "TYPES",
    "Candidate",
    "Entity",
    "EntityIndex",
    "EntityType",
    "ReconciliationService",
    "ServiceError",
    "load_entities",
    "mentions",
]
