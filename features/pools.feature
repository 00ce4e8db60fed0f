Feature: Pools divide a role's share among its contributors
  A pool is divided by the contributors' declared weights, or, for
  training-data licensors, by the period's attribution report when there is one.

  Background:
    Given the label "rust-label" with these contributions to "USRW12600001":
      | party           | role                   | weight |
      | rust            | producer               |        |
      | northern-lights | training_data_licensor | 5      |
      | sunset-catalog  | training_data_licensor | 3      |
      | blue-harbor     | training_data_licensor | 2      |
    And the agreement "walk-my-walk" for "USRW12600001" from 2026-10 with the split sheet:
      | party      | role                   | share     | divide by   |
      | rust       | producer               | 50%       |             |
      |            | training_data_licensor | 20%       | attribution |
      | rust-label | label                  | remaining |             |

  Scenario: The licensors' pool follows the period's attribution report
    Given the attribution report for 2026-10:
      | licensor        | weight |
      | northern-lights | 0.6    |
      | sunset-catalog  | 0.3    |
      | blue-harbor     | 0.1    |
    When a line of 1000.00 USD for "USRW12600001" from "Spotify" in "US" as "stream" in 2026-10 is split
    Then the parts are:
      | party           | role                   | amount | attribution |
      | rust            | producer               | 500.00 |             |
      | blue-harbor     | training_data_licensor | 20.00  | 10%         |
      | northern-lights | training_data_licensor | 120.00 | 60%         |
      | sunset-catalog  | training_data_licensor | 60.00  | 30%         |
      | rust-label      | label                  | 300.00 |             |

  Scenario: Without a report for the period the declared weights divide the pool
    Given the attribution report for 2026-09:
      | licensor        | weight |
      | northern-lights | 1      |
    When a line of 1000.00 USD for "USRW12600001" from "Spotify" in "US" as "stream" in 2026-10 is split
    Then the parts are:
      | party           | role                   | amount | attribution |
      | rust            | producer               | 500.00 |             |
      | blue-harbor     | training_data_licensor | 40.00  |             |
      | northern-lights | training_data_licensor | 100.00 |             |
      | sunset-catalog  | training_data_licensor | 60.00  |             |
      | rust-label      | label                  | 300.00 |             |

  Scenario: Without declared weights a pool is divided equally
    Given the label "rust-label" with these contributions to "USRW12600001":
      | party   | role    | weight |
      | rust    | curator |        |
      | curator | curator |        |
      | editor  | curator |        |
    And the agreement "walk-my-walk" for "USRW12600001" from 2026-10 with the split sheet:
      | party      | role    | share |
      |            | curator | 90%   |
      | rust-label | label   | 10%   |
    When a line of 9.00 USD for "USRW12600001" from "Spotify" in "US" as "stream" in 2026-10 is split
    Then the parts are:
      | party      | role    | amount |
      | curator    | curator | 2.70   |
      | editor     | curator | 2.70   |
      | rust       | curator | 2.70   |
      | rust-label | label   | 0.90   |
