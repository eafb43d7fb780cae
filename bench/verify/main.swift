import PermIDKit
